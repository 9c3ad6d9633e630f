//! The `tracing` feature's spans, against a subscriber that keeps every span it is given.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_core::span::Current;

use super::quick;
use crate::support::*;

#[derive(Debug, Clone, Default)]
struct Kept {
    name: &'static str,
    metadata: Option<&'static Metadata<'static>>,
    parent: Option<u64>,
    fields: HashMap<&'static str, String>,
    thread: String,
    closed: bool,
}

#[derive(Default)]
struct Spans {
    next: AtomicU64,
    kept: Mutex<HashMap<u64, Kept>>,
}

/// The subscriber set as the global default, once for the whole test binary.
#[derive(Clone, Default)]
struct Collector(Arc<Spans>);

struct Fields<'a>(&'a mut HashMap<&'static str, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
}

impl Subscriber for Collector {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.0.next.fetch_add(1, Ordering::SeqCst) + 1;
        let mut kept = Kept {
            name: span.metadata().name(),
            metadata: Some(span.metadata()),
            parent: span.parent().map(Id::into_u64),
            thread: std::thread::current().name().unwrap_or("").to_owned(),
            ..Kept::default()
        };
        span.record(&mut Fields(&mut kept.fields));
        self.0.kept.lock().unwrap().insert(id, kept);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(kept) = self.0.kept.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(&mut kept.fields));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, span: &Id) {
        ENTERED.with(|entered| entered.borrow_mut().push(span.into_u64()));
    }
    fn exit(&self, _: &Id) {
        ENTERED.with(|entered| entered.borrow_mut().pop());
    }
    /// The span this thread is in, so that a span made here may take it as its parent.
    fn current_span(&self) -> Current {
        let Some(id) = ENTERED.with(|entered| entered.borrow().last().copied()) else {
            return Current::none();
        };
        match self
            .0
            .kept
            .lock()
            .unwrap()
            .get(&id)
            .and_then(|k| k.metadata)
        {
            Some(metadata) => Current::new(Id::from_u64(id), metadata),
            None => Current::none(),
        }
    }
    fn try_close(&self, span: Id) -> bool {
        if let Some(kept) = self.0.kept.lock().unwrap().get_mut(&span.into_u64()) {
            kept.closed = true;
        }
        true
    }
}

thread_local! {
    /// The spans this thread has entered, innermost last.
    static ENTERED: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn collector() -> &'static Collector {
    static GLOBAL: OnceLock<Collector> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let collector = Collector::default();
        tracing::subscriber::set_global_default(collector.clone())
            .expect("no other global subscriber in this binary");
        collector
    })
}

#[test]
fn a_span_per_request_and_per_attempt_with_status_attempt_and_timings() {
    let collector = collector();
    let flaky = AtomicUsize::new(0);
    let server = Server::start(move |req| match req.url.as_str() {
        "/302" => Reply::new(302, "").header("Location", "/ok"),
        "/flaky" if flaky.fetch_add(1, Ordering::SeqCst) == 0 => Reply::new(503, ""),
        _ => Reply::ok("ok"),
    });
    let http = Http::builder()
        .retry(quick(2))
        .timings(true)
        .build()
        .unwrap();
    let redirected = http.request(&server.url("/302"));
    let retried = http.request(&server.url("/flaky"));
    assert_eq!(wait(&redirected.0).unwrap().status, 200);
    assert_eq!(wait(&retried.0).unwrap().attempts, 2);

    let host = server.url("").trim_start_matches("http://").to_owned();
    let kept = collector.0.kept.lock().unwrap().clone();
    let field = |span: &Kept, name: &str| span.fields.get(name).cloned().unwrap_or_default();
    let span_of = |pair: &(LazyResponse, LazyContent)| {
        let id = LazyResponse::id(&pair.0).to_string();
        let (&key, span) = kept
            .iter()
            .find(|(_, s)| s.name == "request" && field(s, "id") == id)
            .unwrap_or_else(|| panic!("no request span for req={id}: {kept:?}"));
        let mut attempts: Vec<_> = kept
            .values()
            .filter(|s| s.name == "attempt" && s.parent == Some(key))
            .cloned()
            .collect();
        attempts.sort_by_key(|s| field(s, "attempt"));
        (span.clone(), attempts)
    };
    let (request, attempts) = span_of(&retried);
    assert!(request.closed && attempts.iter().all(|a| a.closed));
    assert_eq!(
        (field(&request, "method"), field(&request, "host")),
        ("GET".to_owned(), host.clone())
    );
    assert_eq!(
        (field(&request, "status"), field(&request, "attempts")),
        ("200".to_owned(), "2".to_owned())
    );
    for timing in ["total_us", "first_byte_us"] {
        let micros: u64 = field(&request, timing)
            .parse()
            .unwrap_or_else(|_| panic!("{timing}: {request:?}"));
        assert!(micros > 0, "{timing}: {request:?}");
    }
    // The phases are the last exchange's: on a connection kept alive, none.
    assert!(request.fields.contains_key("queued_us"));
    let shown: Vec<_> = attempts
        .iter()
        .map(|a| (field(a, "attempt"), field(a, "status"), field(a, "retry")))
        .collect();
    assert_eq!(
        shown,
        [
            ("1".to_owned(), "503".to_owned(), "503".to_owned()),
            ("2".to_owned(), "200".to_owned(), String::new()),
        ]
    );
    assert!(attempts[0].fields.contains_key("delay_us"));
    // A redirect is one attempt; its status is the last head's.
    let (request, attempts) = span_of(&redirected);
    assert_eq!(
        (field(&request, "status"), field(&request, "attempts")),
        ("200".to_owned(), "1".to_owned())
    );
    assert_eq!(attempts.len(), 1);
    assert_eq!(field(&attempts[0], "status"), "200");
    // With the span hook alone, the requests still ran on a driver.
    assert!(
        attempts[0].thread.starts_with("asynchttp-driver"),
        "{attempts:?}"
    );
}

#[test]
fn a_request_made_inside_a_span_is_its_child() {
    let collector = collector();
    let server = Server::start(|_| Reply::ok("ok"));
    let http = Http::builder().build().unwrap();
    let handler = tracing::info_span!("handler");
    let pair = handler.in_scope(|| http.request(&server.url("/inside")));
    let outside = http.request(&server.url("/outside"));
    assert_eq!(wait(&pair.0).unwrap().status, 200);
    assert_eq!(wait(&outside.0).unwrap().status, 200);

    let kept = collector.0.kept.lock().unwrap().clone();
    let request_span = |pair: &(LazyResponse, LazyContent)| {
        let id = LazyResponse::id(&pair.0).to_string();
        kept.values()
            .find(|s| s.name == "request" && s.fields.get("id") == Some(&id))
            .cloned()
            .unwrap_or_else(|| panic!("no request span for req={id}: {kept:?}"))
    };
    let handler_id = handler
        .id()
        .expect("the collector keeps every span")
        .into_u64();
    assert_eq!(request_span(&pair).parent, Some(handler_id));
    assert_eq!(
        request_span(&outside).parent,
        None,
        "made in no span: a root"
    );
}
