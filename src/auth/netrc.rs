//! Credentials from a `.netrc` read when the client was built: a URL that none of the
//! caller's credentials applies to gets the file's entry for its host (`Netrc::offer`),
//! sent up front as Basic, as curl and requests send it, and offered to a 401's
//! challenge like any other credential, so that Digest is answered with it too.
//!
//! Where an entry may go is decided as for every credential, by [`applies`]: a `machine`
//! entry's domain is its host (any port, as curl has it), whichever hop of a redirect
//! reaches it; `default`'s is unnamed, so it goes only to the origin the caller asked for,
//! as a credential added with an empty domain: a server's redirect never chooses where a
//! password goes.

use isahc::http::{HeaderValue, Method};
use url::Url;

use super::{Credential, Credentials, Scheme, State, applies, authorization};

impl Credentials {
    /// The `.netrc`'s credential for `url`, when the file offers one that applies and
    /// none of the caller's applies. A user name in the URL, if one ever comes this far,
    /// takes only that user's entry, as in curl.
    pub(super) fn netrc_credential(
        &self,
        state: &State,
        url: &Url,
        asked_for: &Url,
    ) -> Option<Credential> {
        let netrc = self.netrc.as_deref()?;
        if state.own_apply(url, asked_for) {
            return None;
        }
        let user = Some(url.username()).filter(|user| !user.is_empty());
        let offer = netrc.offer(url, user)?;
        let credential = Credential {
            name: offer.login.to_owned(),
            password: offer.password.to_owned(),
            domain: offer.host.clone(),
            from_netrc: true,
        };
        applies(&credential, url, asked_for).then_some(credential)
    }

    /// The `Authorization: Basic` of the `.netrc`'s credential for `url`, to send up
    /// front; the credential goes into `tried`, so that a 401 is not answered with Basic
    /// again. Never unasked in clear on a hop that a redirect moved from https to http:
    /// the entry stays for a 401 of that host to ask for, as the caller's own credentials
    /// wait for one.
    pub(super) fn netrc_up_front(
        &self,
        method: &Method,
        url: &Url,
        asked_for: &Url,
        tried: &mut Vec<(String, &'static str)>,
    ) -> Option<HeaderValue> {
        if url.scheme() == "http" && asked_for.scheme() == "https" {
            return None;
        }
        let credential = self.netrc_credential(&self.lock(), url, asked_for)?;
        let value = authorization(&credential, &Scheme::Basic, None, method, url);
        tried.push((credential.name, "basic"));
        value
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::netrc::Netrc;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn with_netrc(text: &str) -> Credentials {
        Credentials::new(Some(Arc::new(Netrc::parsed(Path::new("t"), text))))
    }

    /// The name sent up front to `to`, for a request made for `asked_for`.
    fn up_front(credentials: &Credentials, to: &str, asked_for: &str) -> Option<String> {
        let mut tried = Vec::new();
        let value = credentials.netrc_up_front(&Method::GET, &url(to), &url(asked_for), &mut tried);
        assert_eq!(value.is_some(), !tried.is_empty());
        value.map(|v| {
            assert!(v.is_sensitive());
            tried[0].0.clone()
        })
    }

    #[test]
    fn a_machine_entry_goes_to_its_host_on_any_hop_and_default_only_to_the_origin_asked_for() {
        let credentials = with_netrc(
            "machine a.example login alice password 1\n\
             default login anon password 2",
        );
        assert!(!credentials.is_empty());
        let first = "https://a.example/";
        assert_eq!(
            up_front(&credentials, first, first).as_deref(),
            Some("alice")
        );
        // A redirect to a.example on another port: the machine's host, any port.
        assert_eq!(
            up_front(
                &credentials,
                "https://a.example:8443/",
                "https://b.example/"
            )
            .as_deref(),
            Some("alice")
        );
        assert_eq!(
            up_front(&credentials, "http://a.example:8080/", "http://b.example/").as_deref(),
            Some("alice")
        );
        // Never unasked in clear after a redirect from https, even to its own host.
        assert_eq!(up_front(&credentials, "http://a.example/", first), None);
        // default: the origin asked for, never another reached by a redirect.
        let other = "https://b.example/x";
        assert_eq!(
            up_front(&credentials, other, other).as_deref(),
            Some("anon")
        );
        assert_eq!(up_front(&credentials, other, first), None);
        assert_eq!(up_front(&credentials, "http://b.example/x", other), None);
    }

    #[test]
    fn any_credential_of_the_callers_for_the_url_wins() {
        let credentials =
            with_netrc("machine a.example login alice password 1\ndefault password 2");
        credentials.add("bob", "pw", "a.example");
        let a = "https://a.example/";
        assert_eq!(up_front(&credentials, a, a), None);
        let state = credentials.lock();
        assert!(
            credentials
                .netrc_credential(&state, &url(a), &url(a))
                .is_none()
        );
        drop(state);
        // Elsewhere the file still answers.
        let c = "https://c.example/";
        assert_eq!(up_front(&credentials, c, c).as_deref(), Some(""));
        credentials.add("carol", "pw", "");
        assert_eq!(
            up_front(&credentials, c, c),
            None,
            "\"\" applies to the origin asked for"
        );
        credentials.clear();
        assert_eq!(
            up_front(&credentials, a, a).as_deref(),
            Some("alice"),
            "the file stays"
        );
    }

    #[test]
    fn a_client_without_entries_to_use_has_nothing_to_send() {
        assert!(Credentials::new(None).is_empty());
        assert!(with_netrc("machine a.example").is_empty());
        assert!(with_netrc("# nothing\n").is_empty());
    }
}
