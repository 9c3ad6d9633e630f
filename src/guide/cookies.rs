//! Cookies: a jar that keeps a login's session for every later request, and across runs,
//! beside requests' `Session`.
//!
//! None are kept by default, as in httplib2. With [`HttpBuilder::cookies`] a client keeps
//! them in a [`CookieJar`] of its own, or in one of the caller's with
//! [`HttpBuilder::cookie_jar`] (shared by every client given a clone of it);
//! [`Http::cookie_jar`] gives it back.
//!
//! ```python
//! session = requests.Session()
//! session.post("http://127.0.0.1:8080/login", data={"user": "alice", "password": "s3cret"})
//! response = session.get("http://127.0.0.1:8080/account")  # sends the session cookie
//! print(session.cookies.get_dict())
//! with open("cookies.pickle", "wb") as f:                   # no JSON: pickle the jar
//!     pickle.dump(session.cookies, f)
//! ```
//!
//! ```no_run
//! use std::fs::File;
//! use asynchttp::{CookieJar, Http};
//!
//! // The jar the last run saved, if there is one: its login still holds.
//! let jar = match File::open("cookies.json") {
//!     Ok(file) => CookieJar::load_json(file)?,
//!     Err(_) => CookieJar::new(),
//! };
//! // A POST answered with 302 stays a 302 unless follow_all_redirects(true), as httplib2
//! // has it (requests follows it); the cookies the 302 sets are kept either way.
//! let http = Http::builder().cookie_jar(jar.clone()).follow_all_redirects(true).build()?;
//! if jar.cookies_for("http://127.0.0.1:8080/account").is_empty() {
//!     let (login, _) = http.request_with(
//!         "http://127.0.0.1:8080/login",
//!         "POST",
//!         "user=alice&password=s3cret",
//!         &[("Content-Type", "application/x-www-form-urlencoded")],
//!     );
//!     println!("login: {}", login.status); // the session its 302 set is in the jar
//! }
//! let (account, _) = http.request("http://127.0.0.1:8080/account"); // sends the session
//! println!("{}", account.status);
//! jar.save_json(File::create("cookies.json")?)?; // session cookies included
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | requests | asynchttp |
//! |---|---|
//! | `requests.Session()` | `Http::builder().cookies(true)`, or `.cookie_jar(jar)` for a jar of your own (shared by clients given clones of it) |
//! | `session.cookies` | `http.cookie_jar()`: `Option<&CookieJar>`, `None` without a jar |
//! | `session.cookies.get_dict()` | `jar.cookies_for(url)`: the `(name, value)` pairs a request to `url` would send |
//! | `session.cookies.set("token", "t0k3n", domain="api.example.com")` | `jar.add("https://api.example.com/", "token=t0k3n; Path=/")?` |
//! | `session.cookies.clear()` | `jar.clear()`, for every client that shares the jar |
//! | `pickle.dump(session.cookies, f)` | `jar.save_json(file)?`, and `CookieJar::load_json(file)?` |
//! | `headers={"Cookie": "a=1"}` | `Request::header("Cookie", "a=1")`: sent alone, the jar adds nothing to it |
//!
//! # What is stored, sent and saved
//!
//! - **Stored:** the `Set-Cookie` lines of every response that comes over the network: the
//!   final one, each redirect followed, each 401 answered with credentials, a cache
//!   revalidation. Each line is a cookie apart (see [`Response::get_all`]).
//! - **Sent:** each request, and each redirect hop of it, carries the cookies the jar has for
//!   that hop's URL, by RFC 6265's rules as [`CookieJar`] lists them.
//! - **A `Cookie` header of the caller's wins:** the request sends it alone, the jar adds
//!   nothing to it. It keeps the origin policy of the other credentials: sent on a redirect to
//!   the same origin, dropped on a redirect to another (unless
//!   [`HttpBuilder::forward_authorization_headers`]), and that hop carries the jar's cookies
//!   for its URL instead.
//! - **The cache:** a response answered from the cache without the network sends and stores
//!   nothing (the `Set-Cookie` stored with it is not taken again). A response that varies on
//!   `Cookie` is not stored for a request whose cookies came from the jar, since the cache
//!   never sees them: after a logout, a cached page of the logged-in user would answer.
//! - **Saved:** [`CookieJar::save_json`] writes every cookie that has not expired, session
//!   cookies too (a browser drops those when it closes), so that a login survives a restart;
//!   the file holds the session tokens, so keep it private. [`CookieJar::load_json`] reads
//!   them back; the format is `cookie_store`'s JSON.
//! - **Shared:** the jar is shared by the client's clones, its drivers and its workers, behind
//!   a lock held only to read or store, never across I/O, so requests with a jar still run on
//!   the drivers.
//!
//! [`CookieJar`]: crate::CookieJar
//! [`CookieJar::load_json`]: crate::CookieJar::load_json
//! [`CookieJar::save_json`]: crate::CookieJar::save_json
//! [`Http::cookie_jar`]: crate::Http::cookie_jar
//! [`HttpBuilder::cookie_jar`]: crate::HttpBuilder::cookie_jar
//! [`HttpBuilder::cookies`]: crate::HttpBuilder::cookies
//! [`HttpBuilder::forward_authorization_headers`]: crate::HttpBuilder::forward_authorization_headers
//! [`Response::get_all`]: crate::Response::get_all
