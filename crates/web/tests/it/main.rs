//! Meridian's integration tests: one binary, the real server, a fresh database per test.

mod harness;

mod accounts;
mod audit;
mod evaluations;
mod iati_feed;
mod iati_import;
mod office_template;
mod openapi;
mod organization;
mod pages;
mod project_pages;
mod projects;
mod results;
mod results_editing;
