//! Test databases for the store's integration tests, on both backends
//! (`voltex-testdb`, the harness every crate's conformance tests share),
//! and the store tests' own fixtures.
use voltex_model::{DeclarationBody, EnergyOfferInterval, OfferSegment};
pub use voltex_testdb::{TestDb, on_backend, sqlite};

/// A fresh PostgreSQL database whose name starts with `prefix`.
pub async fn postgres(prefix: &str) -> TestDb {
    voltex_testdb::postgres(prefix).await
}

/// A day-ahead energy offer for `unit_id`: 96 intervals of one 50 MW
/// segment at `price`.
#[allow(dead_code)] // the audit-chain tests declare nothing
pub fn offer(unit_id: &str, price: f64) -> DeclarationBody {
    DeclarationBody::EnergyOffer {
        unit_id: unit_id.into(),
        intervals: vec![
            EnergyOfferInterval {
                segments: vec![OfferSegment {
                    quantity_mw: 50.0,
                    price
                }]
            };
            96
        ],
    }
}
