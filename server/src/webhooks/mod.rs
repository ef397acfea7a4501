//! Webhooks: endpoints operators manage ([`store`]), where they may point
//! ([`destination`]), Standard Webhooks signatures ([`signing`]), and the
//! delivery worker ([`deliver`]) with its settings ([`settings`]).

pub mod deliver;
pub mod destination;
pub mod settings;
pub mod signing;
pub mod store;

pub use settings::{WebhookArgs, WebhookSettings};
