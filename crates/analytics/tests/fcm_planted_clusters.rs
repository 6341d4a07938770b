//! FCM recovers clusters planted in synthetic daily load curves, and the
//! Xie–Beni index picks the planted number of clusters.
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use voltex_analytics::fcm::{self, FcmConfig};

/// Three shapes: night-heavy, evening-peak, flat; 60 noisy copies each.
fn planted_curves() -> (Vec<Vec<f64>>, Vec<usize>) {
    let shapes: Vec<Vec<f64>> = vec![
        (0..24)
            .map(|h| if !(7..23).contains(&h) { 3.0 } else { 0.5 })
            .collect(),
        (0..24)
            .map(|h| if (17..22).contains(&h) { 4.0 } else { 0.6 })
            .collect(),
        vec![1.0; 24],
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut points = Vec::new();
    let mut truth = Vec::new();
    for i in 0..180 {
        let k = i % 3;
        points.push(
            shapes[k]
                .iter()
                .map(|v| v * (1.0 + rng.random_range(-0.1..0.1)))
                .collect(),
        );
        truth.push(k);
    }
    (points, truth)
}

#[test]
fn fcm_recovers_planted_clusters() {
    let (points, truth) = planted_curves();
    let model = fcm::fit(&points, &FcmConfig::new(3, 11)).unwrap();
    assert!(model.converged);
    let labels = model.hard_labels();
    // Each planted group maps to exactly one cluster (purity 100 %).
    for k in 0..3 {
        let first = labels[truth.iter().position(|&t| t == k).unwrap()];
        for (l, t) in labels.iter().zip(&truth) {
            if *t == k {
                assert_eq!(*l, first, "planted group {k} split across clusters");
            } else {
                assert_ne!(*l, first, "planted groups merged");
            }
        }
    }
}

#[test]
fn xie_beni_chooses_the_planted_cluster_count() {
    let (points, _) = planted_curves();
    let selection = fcm::select_cluster_count(&points, 2..=6, &FcmConfig::new(2, 3)).unwrap();
    assert_eq!(
        selection.chosen, 3,
        "table {:?}",
        selection.xie_beni_by_count
    );
}

#[test]
fn fit_is_deterministic_for_a_seed() {
    let (points, _) = planted_curves();
    let a = fcm::fit(&points, &FcmConfig::new(4, 5)).unwrap();
    let b = fcm::fit(&points, &FcmConfig::new(4, 5)).unwrap();
    assert_eq!(a.centres, b.centres);
    assert_eq!(a.memberships, b.memberships);
}

proptest! {
    #[test]
    fn memberships_are_a_probability_vector(
        point in prop::collection::vec(-100.0f64..100.0, 3),
        centres in prop::collection::vec(prop::collection::vec(-100.0f64..100.0, 3), 2..6),
    ) {
        let u = fcm::memberships_for(&point, &centres, 2.0);
        prop_assert_eq!(u.len(), centres.len());
        prop_assert!(u.iter().all(|&x| (0.0..=1.0).contains(&x)));
        prop_assert!((u.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
