//! Closures as hooks: the shortcuts [`HttpBuilder::before_send`] and
//! [`HttpBuilder::on_response`] make each closure a [`Hook`] with one method.
//!
//! [`HttpBuilder::before_send`]: crate::HttpBuilder::before_send
//! [`HttpBuilder::on_response`]: crate::HttpBuilder::on_response

use std::any::type_name;

use super::{Hook, Incoming, Outgoing};
use crate::BoxError;

type SendFn = dyn Fn(&mut Outgoing<'_>) -> Result<(), BoxError> + Send + Sync;

/// A closure run as [`Hook::before_send`].
pub(crate) struct BeforeSend {
    call: Box<SendFn>,
    /// The closure's type, which names where it was written.
    name: &'static str,
}

impl BeforeSend {
    pub(crate) fn new<F>(call: F) -> Self
    where
        F: Fn(&mut Outgoing<'_>) -> Result<(), BoxError> + Send + Sync + 'static,
    {
        BeforeSend {
            call: Box::new(call),
            name: type_name::<F>(),
        }
    }
}

impl Hook for BeforeSend {
    fn name(&self) -> &str {
        self.name
    }

    fn before_send(&self, outgoing: &mut Outgoing<'_>) -> Result<(), BoxError> {
        (self.call)(outgoing)
    }
}

/// A closure run as [`Hook::on_response`].
pub(crate) struct OnResponse {
    call: Box<dyn Fn(&Incoming<'_>) + Send + Sync>,
    name: &'static str,
}

impl OnResponse {
    pub(crate) fn new<F>(call: F) -> Self
    where
        F: Fn(&Incoming<'_>) + Send + Sync + 'static,
    {
        OnResponse {
            call: Box::new(call),
            name: type_name::<F>(),
        }
    }
}

impl Hook for OnResponse {
    fn name(&self) -> &str {
        self.name
    }

    fn on_response(&self, incoming: &Incoming<'_>) {
        (self.call)(incoming)
    }
}
