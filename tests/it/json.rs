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
            .header("Content-Type", "application/json"),
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
