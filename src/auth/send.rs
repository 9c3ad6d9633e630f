//! A request sent with credentials: an authorization accepted before goes up front, and a
//! 401 is answered with each credential and scheme that applies until one is accepted.

use url::Url;

use super::Credentials;
use super::challenge::{Challenge, parse_challenges};
use crate::body::Again;
use crate::deadline::Deadline;
use crate::request::Prepared;
use crate::transport::{Head, Transport};
use crate::{Error, Response};

/// The most of a 401's body read before it is answered; the rest is dropped with it.
const CHALLENGE_BODY_CAP: u64 = 64 * 1024;

impl Credentials {
    /// Sends `req` through `transport` and answers a 401, for a request that the caller
    /// made for `asked_for` (the first URL of a redirect chain). A request with its own
    /// `Authorization` header is sent as it is. Returns the first response that is not a
    /// 401, or the last 401.
    pub(crate) async fn send(
        &self,
        transport: &Transport,
        req: &mut Prepared,
        asked_for: &Url,
        deadline: &Deadline,
    ) -> Result<Head, Error> {
        let own_authorization = req.has_header("authorization");
        let answering = !own_authorization && !self.is_empty();
        let mut flight = None;
        let mut tried = Vec::new();
        if answering {
            // A Digest request waits for its nonce (see `Credentials`) within its deadline.
            let patience = deadline.left().unwrap_or_default();
            let (value, used) = self.preemptive(&req.method, &req.url, asked_for, patience);
            // Nothing accepted to send: the `.netrc`'s entry, if it has one for the URL.
            req.authorization =
                value.or_else(|| self.netrc_up_front(&req.method, &req.url, asked_for, &mut tried));
            flight = used;
        }
        let sent = transport.send(req, deadline).await;
        // The response is here: others may use the nonce again, and the line the request
        // took goes back, or after a 401 (or a failure) is dropped.
        if let (Ok(head), Some(flight)) = (&sent, flight) {
            flight.landed(&head.response);
        }
        let head = sent?;
        if answering && head.response.status == 401 {
            return self
                .authenticate(transport, req, asked_for, head, deadline, tried)
                .await;
        }
        Ok(head)
    }

    /// Answers a 401 with the credentials that apply to this URL, each scheme it offers
    /// tried once (those in `tried` were sent already), until one is accepted; and, once
    /// for the whole request, a Digest answer again when its 401 leaves the password in
    /// doubt (see [`Credentials::retry`]). So a server that keeps saying `stale`, and offers
    /// Basic beside Digest, sees four requests: the request, the Digest answer, that answer
    /// sent again, and the Basic answer.
    async fn authenticate(
        &self,
        transport: &Transport,
        req: &mut Prepared,
        asked_for: &Url,
        mut head: Head,
        deadline: &Deadline,
        mut tried: Vec<(String, &'static str)>,
    ) -> Result<Head, Error> {
        let mut sent_again = false;
        loop {
            let challenges = challenges_of(&head.response);
            let Some(mut attempt) = self.next_attempt(&challenges, &req.url, asked_for, &mut tried)
            else {
                return Ok(head);
            };
            loop {
                // The 401's body goes first: an answer may wait for its nonce.
                drop(head.skim(CHALLENGE_BODY_CAP).await);
                let patience = deadline.left().unwrap_or_default();
                let (value, flight) = self.header(&attempt, &req.method, &req.url, patience);
                req.authorization = value;
                req.again = Some(Again::Unauthorized);
                head = transport.send(req, deadline).await?;
                if head.response.status != 401 {
                    drop(flight);
                    let info = head.response.get("authentication-info");
                    self.accept(attempt, &req.url, info);
                    return Ok(head);
                }
                let challenges = challenges_of(&head.response);
                if sent_again || !self.retry(&mut attempt, flight, &challenges) {
                    break;
                }
                sent_again = true;
            }
        }
    }
}

fn challenges_of(response: &Response) -> Vec<Challenge> {
    parse_challenges(response.get("www-authenticate").unwrap_or_default())
}
