//! Siaran: a publishing backend for public briefings.
//!
//! The binary (`main.rs`) only parses the command line; everything else lives here so that the
//! integration tests drive the same code.

pub mod analytics;
pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod feed;
pub mod http;
pub mod import;
pub mod media;
pub mod outbound;
pub mod reconcile;
pub mod service;
pub mod storage;
