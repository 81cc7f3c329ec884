//! `GET /v1/events`: the node's block and receipt events as server-sent events.
//!
//! A subscriber that falls behind the node's event buffer skips what it missed and is told so by
//! a `lagged` event; it never slows the node down. Streams end when the server shuts down.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::{BroadcastStream, WatchStream};
use tokio_stream::{Stream, StreamExt};

use crate::AppState;
use crate::dto::{LaggedEventDto, StreamEvent};

fn sse_event(item: Result<civic_node::NodeEvent, BroadcastStreamRecvError>) -> Event {
    let event = match item {
        Ok(e) => match StreamEvent::from(&e) {
            StreamEvent::Block(d) => Event::default().event("block").json_data(d),
            StreamEvent::Receipt(d) => Event::default().event("receipt").json_data(d),
        },
        Err(BroadcastStreamRecvError::Lagged(skipped)) => {
            Event::default().event("lagged").json_data(LaggedEventDto { skipped })
        }
    };
    // The event types are plain structs of strings and numbers, which always serialize.
    event.unwrap_or_else(|_| Event::default().comment("event could not be encoded"))
}

/// Server-sent events: `block` and `receipt` as they commit, `lagged` after missed events.
///
/// Each event's data is JSON: `BlockEventDto`, `ReceiptEventDto` or `LaggedEventDto`.
/// Comments keep idle connections alive.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    responses((
        status = 200,
        description = "An endless `text/event-stream`; event names `block`, `receipt`, `lagged`",
        content_type = "text/event-stream",
        body = String
    ))
)]
pub(crate) async fn events(State(st): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = BroadcastStream::new(st.node.events()).map(|e| Some(sse_event(e)));
    let stop = WatchStream::new(st.shutdown.clone()).filter(|stop| *stop).map(|_| None);
    let stream = events.merge(stop).take_while(Option::is_some).filter_map(|e| e.map(Ok));
    Sse::new(stream).keep_alive(KeepAlive::default())
}
