//! The `json` feature: bodies decoded with serde, on the caller or on the worker.

use asynchttp::{Lazy, Request};

use crate::support::*;

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Item {
    id: u32,
    name: String,
}

fn json_server() -> Server {
    Server::start(|req| match req.url.as_str() {
        "/items" => Reply::ok(r#"[{"id": 1, "name": "one"}, {"id": 2, "name": "two"}]"#)
            .header("Content-Type", "application/json")
            .header("Link", "</items?page=2>; rel=\"next\""),
        "/gone" => Reply::new(404, "<h1>Not Found</h1>"),
        "/broken" => Reply::new(500, "Internal Server Error"),
        _ => Reply::ok("not json"),
    })
}

#[test]
fn content_decodes_as_json() {
    let server = json_server();
    let http = Http::new();
    let (_, content) = http.request(&server.url("/items"));
    let items: Vec<Item> = LazyContent::json(&content).unwrap();
    assert_eq!(
        items[1],
        Item {
            id: 2,
            name: "two".to_owned()
        }
    );
    let (_, bad) = http.request(&server.url("/text"));
    let e = LazyContent::json::<Vec<Item>>(&bad).unwrap_err();
    assert!(matches!(e, Error::Json { .. }), "{}", e.chain());
}

#[test]
fn send_json_decodes_on_the_worker() {
    let server = json_server();
    let http = Http::new();
    let items = http.send_json::<Vec<Item>>(Request::get(server.url("/items")));
    assert_eq!(Lazy::wait_timeout(&items, BOUND).unwrap().unwrap().len(), 2);
    let bad = http.send_json::<Vec<Item>>(Request::get(server.url("/text")));
    assert!(matches!(
        Lazy::wait_timeout(&bad, BOUND).unwrap(),
        Err(Error::Json { .. })
    ));
}

#[test]
fn a_json_error_tells_the_status_of_the_answer() {
    let server = json_server();
    let http = Http::new();
    for (path, code) in [("/gone", 404), ("/broken", 500), ("/text", 200)] {
        let on_worker = http.send_json::<Vec<Item>>(Request::get(server.url(path)));
        let e = Lazy::wait_timeout(&on_worker, BOUND).unwrap().unwrap_err();
        assert!(
            matches!(e, Error::Json { status, .. } if status == code),
            "{e:?}"
        );
        assert!(e.to_string().contains(&code.to_string()), "{e}");
        let (_, content) = http.request(&server.url(path));
        let e = LazyContent::json::<Vec<Item>>(&content).unwrap_err();
        assert!(
            matches!(e, Error::Json { status, .. } if status == code),
            "{e:?}"
        );
    }
}

#[test]
fn send_json_with_response_keeps_the_response_beside_the_value() {
    let server = json_server();
    let http = Http::new();
    let page = http.send_json_with_response::<Vec<Item>>(Request::get(server.url("/items")));
    let (response, items) = Lazy::wait_timeout(&page, BOUND).unwrap().unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.get("link"), Some("</items?page=2>; rel=\"next\""));
    assert_eq!(items.len(), 2);
    let gone = http.send_json_with_response::<Vec<Item>>(Request::get(server.url("/gone")));
    assert!(matches!(
        Lazy::wait_timeout(&gone, BOUND).unwrap(),
        Err(Error::Json { status: 404, .. })
    ));
}

#[derive(serde::Serialize)]
struct Order<'a> {
    item: &'a str,
    count: u32,
}

#[test]
fn a_json_body_goes_with_its_type_unless_the_request_has_one() {
    let server = Server::start(|_| Reply::ok("ok"));
    let http = Http::new();
    let order = Order {
        item: "thé \"vert\"",
        count: 2,
    };
    let (response, _) = http.send(Request::new("POST", server.url("/orders")).json(&order));
    assert_eq!(wait(&response).unwrap().status, 200);
    let (response, _) = http.send(
        Request::new("POST", server.url("/orders"))
            .header("Content-Type", "application/vnd.api+json")
            .json(&[1, 2, 3]),
    );
    assert_eq!(wait(&response).unwrap().status, 200);
    let received = server.received();
    assert_eq!(
        received[0].body,
        r#"{"item":"thé \"vert\"","count":2}"#.as_bytes()
    );
    assert_eq!(received[0].header("content-type"), Some("application/json"));
    assert_eq!(received[1].body, b"[1,2,3]");
    assert_eq!(
        received[1].header("content-type"),
        Some("application/vnd.api+json")
    );
}

/// Fails to serialise, as a value of the caller's may.
struct Unserialisable;

impl serde::Serialize for Unserialisable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("the ledger is locked"))
    }
}

#[test]
fn a_value_that_does_not_serialise_fails_the_request_and_nothing_is_sent() {
    let server = Server::start(|_| Reply::ok("ok"));
    let http = Http::new();
    let not_string_keys: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
    for req in [
        Request::new("POST", server.url("/")).json(&Unserialisable),
        Request::new("POST", server.url("/")).json(&not_string_keys),
    ] {
        let (response, content) = http.send(req);
        match error(&response) {
            Error::InvalidRequest { reason, .. } => {
                assert!(
                    reason.contains("JSON body could not be serialised"),
                    "{reason}"
                )
            }
            other => panic!("{}", other.chain()),
        }
        assert!(LazyContent::wait(&content).is_err(), "both halves fail");
    }
    let e = error(
        &http
            .send(Request::new("POST", server.url("/")).json(&Unserialisable))
            .0,
    );
    assert!(e.to_string().contains("the ledger is locked"), "{e}");
    assert_eq!(server.hits(), 0);
}
