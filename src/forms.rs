//! A request's body or query made from values, as requests makes them from `files=`,
//! `data=`, `json=` and `params=`: [`Request::multipart`], [`Request::form`],
//! `Request::json` and [`Request::query`]. The recipes are in
//! [`guide::forms`](crate::guide::forms).

use std::sync::Arc;

use crate::{Form, Request, urlencode};

impl Request {
    /// Sends `form` as the body, `multipart/form-data`, with its `Content-Type` and
    /// boundary (replacing any `Content-Type` set before: the body cannot be read without
    /// its boundary). requests' `files=`, curl's `-F`; see [`Form`].
    ///
    /// ```
    /// use asynchttp::{Form, Request};
    ///
    /// let form = Form::new().text("title", "Holidays").file("photo", "photos/beach.jpg");
    /// let req = Request::new("POST", "http://127.0.0.1:8080/upload").multipart(form);
    /// # drop(req);
    /// ```
    pub fn multipart(self, form: Form) -> Self {
        let content_type = form.content_type();
        self.header("Content-Type", content_type)
            .with_body(form.into_body())
    }

    /// Sends `pairs` as an `application/x-www-form-urlencoded` body, in their order,
    /// repeated keys and all, encoded as requests' `data=` encodes them (spaces as `+`,
    /// anything but letters, digits and `_.-~` as `%XX` of its UTF-8). Sets that
    /// `Content-Type` unless the request has one.
    ///
    /// ```
    /// let req = asynchttp::Request::new("POST", "http://127.0.0.1:8080/login")
    ///     .form([("user", "alice"), ("password", "s3cret & more")]);
    /// // The body is `user=alice&password=s3cret+%26+more`.
    /// # drop(req);
    /// ```
    pub fn form<I, K, V>(self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.header_unless_set("Content-Type", "application/x-www-form-urlencoded")
            .with_body(urlencode::encode(pairs).into())
    }

    /// Adds `pairs` to the URL's query, encoded as [`Request::form`] encodes them: after
    /// the query the URL has, joined with `&`, before its fragment, as requests' `params=`.
    ///
    /// ```
    /// let req = asynchttp::Request::get("http://127.0.0.1:8080/search?lang=en#results")
    ///     .query([("q", "rust http"), ("page", "2")]);
    /// assert_eq!(req.uri(), "http://127.0.0.1:8080/search?lang=en&q=rust+http&page=2#results");
    /// ```
    pub fn query<I, K, V>(mut self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let query = urlencode::encode(pairs);
        self.uri = Arc::from(urlencode::with_query(&self.uri, &query));
        self
    }

    /// Sends `value` serialised as JSON, with `Content-Type: application/json` unless the
    /// request has a `Content-Type` (with the `json` feature): requests' `json=`. A value
    /// that does not serialise (a map whose keys are not strings, a `Serialize` that
    /// fails) fails the request with [`Error::InvalidRequest`](crate::Error::InvalidRequest)
    /// when it is sent; nothing is sent.
    ///
    /// ```
    /// # #[cfg(feature = "json")] {
    /// #[derive(serde::Serialize)]
    /// struct Order<'a> {
    ///     item: &'a str,
    ///     count: u32,
    /// }
    ///
    /// let req = asynchttp::Request::new("POST", "http://127.0.0.1:8080/orders")
    ///     .json(&Order { item: "tea", count: 2 });
    /// # drop(req);
    /// # }
    /// ```
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => self
                .header_unless_set("Content-Type", "application/json")
                .with_body(bytes.into()),
            Err(e) => self.refuse(crate::Error::invalid(format!(
                "the JSON body could not be serialised: {e}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Error, Form, Request};

    fn content_type(req: &Request) -> Option<&str> {
        req.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_form_sets_its_type_unless_one_is_set() {
        let req = Request::new("POST", "http://h/").form([("a b", "1&2"), ("a b", "3")]);
        assert_eq!(req.body.as_bytes(), Some(&b"a+b=1%262&a+b=3"[..]));
        assert_eq!(
            content_type(&req),
            Some("application/x-www-form-urlencoded")
        );
        let own = Request::new("POST", "http://h/")
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .form([("k", "v")]);
        assert_eq!(
            content_type(&own),
            Some("application/x-www-form-urlencoded; charset=utf-8")
        );
    }

    #[test]
    fn a_multipart_form_sets_its_boundary_over_any_type() {
        let form = Form::new().text("k", "v");
        let expected = form.content_type();
        let req = Request::new("POST", "http://h/")
            .header("Content-Type", "text/plain")
            .multipart(form);
        assert_eq!(content_type(&req), Some(expected.as_str()));
        assert!(req.body.as_bytes().unwrap().ends_with(b"--\r\n"));
    }

    #[test]
    fn a_form_whose_file_cannot_be_read_fails_when_its_body_is_opened_naming_it() {
        let req = Request::new("POST", "http://h/")
            .multipart(Form::new().file("f", "/nonexistent/asynchttp-form-file"));
        let uri = req.uri.clone();
        let prepared = req.prepare(&uri).expect("checked when sent, not when made");
        match prepared.body.open(None).err() {
            Some(e @ Error::Body { .. }) => {
                assert!(
                    e.chain().contains("/nonexistent/asynchttp-form-file"),
                    "{e}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_query_keeps_the_uri_it_had_and_adds_nothing_for_no_pairs() {
        let req = Request::get("http://h/p?x=1#f").query([("q", "~*")]);
        assert_eq!(req.uri(), "http://h/p?x=1&q=~%2A#f");
        let none = Request::get("http://h/p").query(Vec::<(String, String)>::new());
        assert_eq!(none.uri(), "http://h/p");
    }
}
