//! Download analytics: which media requests count as downloads under the IAB Podcast
//! Measurement Technical Guidelines v2.x, and which app and device made them.
//!
//! Pure logic only: no database, clock, network or file access, so every rule is unit-tested on
//! synthetic request logs. Delivery describes each media request as a [`Hit`]; a writer task
//! runs [`screen`], [`window`], [`listener_key`] and [`ListenerState::apply`] and keeps the
//! states in the database. [`Counter`] is that chain in memory, the reference model.

pub mod agents;
pub mod geoip;
pub mod iab;
pub mod recorder;

pub use agents::{Agent, UserAgents};
pub use geoip::GeoIp;
pub use iab::{
    Candidate, Counter, Coverage, Exclusion, Hit, HitMethod, ListenerState, MediaTiming, Outcome,
    listener_key, screen, threshold_bytes, window,
};
pub use recorder::{MediaHit, Recorder};
