//! Argument checks shared by the modules. Each refusal is a [`TxError::Invalid`] whose message
//! names the field and says what to fix; user text quoted back is cut to [`SHOWN_CHARS`].

use crate::exec::TxError;

/// Most characters of a refused value quoted in an error message.
pub const SHOWN_CHARS: usize = 80;

/// The start of `s`, for quoting in an error message.
pub fn shown(s: &str) -> String {
    s.chars().take(SHOWN_CHARS).collect()
}

/// Free text recorded on chain (a label, a reason, a note): 1 to `max` bytes, not only
/// whitespace, and no control characters other than line feeds (they would garble the
/// terminals and logs that show it).
pub fn text(what: &str, s: &str, max: usize) -> Result<(), TxError> {
    if s.trim().is_empty() || s.len() > max {
        Err(TxError::Invalid(format!("{what} must be 1-{max} bytes of text, not {} bytes", s.len())))
    } else if s.chars().any(|c| c.is_control() && c != '\n') {
        Err(TxError::Invalid(format!("{what} contains control characters; remove them")))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_bounded_printable_and_not_blank() {
        assert!(text("the note", "calling the subject\nno answer", 64).is_ok());
        for (bad, why) in [
            ("", "1-8 bytes"),
            ("   ", "1-8 bytes"),
            ("ninebytes", "not 9 bytes"),
            ("a\u{7}b", "control characters"),
            ("a\rb", "control characters"),
        ] {
            let Err(TxError::Invalid(msg)) = text("the note", bad, 8) else { panic!("{bad:?} accepted") };
            assert!(msg.starts_with("the note") && msg.contains(why), "{bad:?}: {msg}");
        }
        assert_eq!(shown(&"é".repeat(100)).chars().count(), SHOWN_CHARS);
    }
}
