//! Each failure has the kind that tells the caller what to do: a head too large is not an
//! incomplete body (which a caller would retry), a body that claims more than can ever be
//! read is not a success, a redirect that cannot be followed carries its response.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::support::*;

/// A known limit (`asynchttp::guide::limits`): libcurl fails a head over its 300 KiB total
/// with the same receive error as a connection that broke in the head, and isahc drops the
/// text that tells them apart. A single line over 100 KiB is `HeadersTooLarge`; this is at
/// least never a success, and never looks like a body cut short after some bytes.
#[test]
fn a_head_over_the_total_limit_is_an_error_before_any_body() {
    // Four lines of 90 KB: each under libcurl's limit for one line, together over its
    // limit for a whole head.
    let server = RawServer::start(|s| {
        send(s, b"HTTP/1.1 200 OK\r\n");
        for i in 0..4 {
            send(s, format!("X-Big-{i}: ").as_bytes());
            send(s, &vec![b'a'; 90 * 1024]);
            send(s, b"\r\n");
        }
        send(s, b"Content-Length: 0\r\n\r\n");
    });
    let (response, _) = Http::new().request(&server.url("/"));
    let e = error(&response);
    assert!(
        matches!(
            e,
            Error::HeadersTooLarge { .. }
                | Error::BodyIncomplete {
                    received: 0,
                    expected: None,
                    ..
                }
        ),
        "{} {e:?}",
        e.chain()
    );
}

#[test]
fn one_header_line_over_the_line_limit_is_headers_too_large() {
    let server = RawServer::start(|s| {
        send(s, b"HTTP/1.1 302 Found\r\nLocation: /");
        send(s, &vec![b'a'; 100 * 1024]);
        send(s, b"\r\nContent-Length: 0\r\n\r\n");
    });
    let (response, _) = Http::new().request(&server.url("/"));
    let e = error(&response);
    assert!(matches!(e, Error::HeadersTooLarge { .. }), "{}", e.chain());
}

#[test]
fn a_content_length_past_u64_is_an_error_not_five_bytes() {
    let server = RawServer::start(|s| {
        send(
            s,
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nhello",
        );
    });
    let (response, content) = Http::new().request(&server.url("/"));
    let e = error(&response);
    assert!(
        matches!(e, Error::BodyTooLarge { .. } | Error::BodyIncomplete { .. }),
        "{} {e:?}",
        e.chain()
    );
    assert!(LazyContent::wait(&content).is_err());
}

#[test]
fn a_redirect_to_a_huge_location_is_refused_with_its_response() {
    // Under libcurl's limit for one header line, over what a request line may carry.
    let long = format!("/{}", "a".repeat(90 * 1024));
    let server = Server::start(move |req| {
        if req.url.len() > 1000 {
            Reply::ok("followed")
        } else {
            Reply::new(302, "moved").header("Location", &long)
        }
    });
    let (response, _) = Http::new().request(&server.url("/start"));
    match error(&response) {
        Error::RedirectRefused {
            response, location, ..
        } => {
            assert_eq!(response.status, 302);
            assert_eq!(location.len(), 90 * 1024 + 1);
        }
        other => panic!("expected RedirectRefused, got {}", other.chain()),
    }
    assert_eq!(server.hits(), 1, "nothing sent to the Location");
}

#[test]
fn an_undecodable_body_forced_to_a_status_is_a_500_with_the_response() {
    let server = Server::start(|_| {
        Reply::ok("this is not gzip at all")
            .header("Content-Encoding", "gzip")
            .header("X-Origin", "kept")
    });
    let http = Http::builder()
        .force_exception_to_status_code(true)
        .build()
        .unwrap();
    let (response, _) = http.request(&server.url("/z"));
    let response = wait(&response).unwrap();
    assert_eq!(response.status, 500, "{response:?}");
    assert_eq!(
        response.get("x-origin"),
        Some("kept"),
        "the server's headers"
    );
    assert!(
        response.reason.contains("decompress"),
        "{}",
        response.reason
    );
    assert_eq!(
        &response["status"], "200",
        "as httplib2: the server's status is kept"
    );
}

#[test]
fn body_too_large_names_the_limit_the_setting_and_the_url() {
    let server = Server::start(|_| Reply::ok(vec![b'x'; 4096]));
    let http = Http::builder().max_body_size(1024).build().unwrap();
    let url = server.url("/big");
    let (response, content) = http.request(&url);
    let e = error(&response);
    let text = e.to_string();
    assert!(text.contains("1024"), "{text}");
    assert!(text.contains("max_body_size"), "{text}");
    let panic = catch_unwind(AssertUnwindSafe(|| content.len())).expect_err("it panics");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("max_body_size"), "{message}");
}
