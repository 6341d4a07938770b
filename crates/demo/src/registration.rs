//! The day's registration: the case's network is imported, the companies and
//! buyers apply and the operator approves them, each generation company
//! registers its unit and each buyer its load resource. What the later steps
//! trade with comes back as [`Registered`].
use crate::{DemoOptions, round2};
use anyhow::Context;
use voltex_clearing::load_shape::read_load_shape;
use voltex_formats::matpower::{CaseGenerator, MatpowerCase};
use voltex_market::{Actor, Market, NewMember};
use voltex_model::{GeneratingUnit, LoadResource, MemberKind, MemberStatus, Technology};

/// The five generation groups that own the case's five generators.
const GENCOS: [(&str, &str); 5] = [
    ("huaneng", "Huaneng Demo Generation Co."),
    ("datang", "Datang Demo Generation Co."),
    ("huadian", "Huadian Demo Generation Co."),
    ("guodian", "Guodian Demo Generation Co."),
    ("spic", "SPIC Demo Generation Co."),
];

/// Who and what is registered, for the steps that follow.
#[derive(Debug)]
pub struct Registered {
    pub operator: Actor,
    pub case: MatpowerCase,
    /// The day's load curve as read (resampled per session).
    pub load_shape: Vec<f64>,
    /// One per case generator, in case order.
    pub units: Vec<GeneratingUnit>,
    pub buyers: Vec<BuyerPlan>,
}

/// How a buyer bids: fixed (price-taking) or split by willingness to pay.
#[derive(Debug, Clone)]
pub struct BuyerPlan {
    pub member_id: String,
    pub resource_id: String,
    pub bus: u32,
    pub base_mw: f64,
    pub controllable_share: f64,
    /// (share of the quantity, yuan/MWh), prices non-increasing; empty = price-taking.
    pub tiers: Vec<(f64, f64)>,
}

/// Reads the inputs and registers everyone who takes part.
pub async fn register(market: &Market, opts: &DemoOptions) -> anyhow::Result<Registered> {
    let case = voltex_formats::matpower::parse_case_file(&opts.case_path)
        .with_context(|| format!("demo input {}", opts.case_path.display()))?;
    let load_shape = read_load_shape(&opts.load_shape_path)
        .with_context(|| format!("demo input {}", opts.load_shape_path.display()))?;
    let operator = market.operator().await?;

    let case_text = std::fs::read_to_string(&opts.case_path)
        .with_context(|| format!("demo input {}", opts.case_path.display()))?;
    market
        .import_matpower(&operator, &case_text, Some("pjm5"))
        .await?;

    register_members(market, &operator, &case).await?;
    let units = register_units(market, &case).await?;
    let buyers = register_load_resources(market, &case).await?;
    Ok(Registered {
        operator,
        case,
        load_shape,
        units,
        buyers,
    })
}

/// Members: register (pending), then the operator approves.
async fn register_members(
    market: &Market,
    operator: &Actor,
    case: &MatpowerCase,
) -> anyhow::Result<()> {
    let mut applicants: Vec<NewMember> = GENCOS
        .iter()
        .take(case.generators.len())
        .map(|(id, name)| new_member(id, name, MemberKind::Generator))
        .collect();
    applicants.push(new_member(
        "retail-east",
        "East Power Retail Co.",
        MemberKind::Retailer,
    ));
    applicants.push(new_member(
        "retail-west",
        "West Power Retail Co.",
        MemberKind::Retailer,
    ));
    applicants.push(new_member(
        "steelworks",
        "Demo Special Steel Works",
        MemberKind::LargeConsumer,
    ));
    applicants.push(new_member(
        "aggregator",
        "Demo Virtual Power Plant",
        MemberKind::LoadAggregator,
    ));
    for a in applicants {
        let id = a.id.clone();
        market.register_member(a).await?;
        market
            .set_member_status(operator, &id, MemberStatus::Active)
            .await?;
    }
    Ok(())
}

/// Units: one per case generator, owned by its generation company.
async fn register_units(
    market: &Market,
    case: &MatpowerCase,
) -> anyhow::Result<Vec<GeneratingUnit>> {
    let mut units = Vec::new();
    for (k, g) in case.generators.iter().enumerate() {
        let owner = GENCOS[k % GENCOS.len()].0;
        let unit = unit_from_case(k, owner, g);
        let owner_actor = market.actor(owner).await?;
        units.push(market.register_unit(&owner_actor, unit).await?.value);
    }
    Ok(units)
}

/// Load resources: the case's loaded buses shared among the buyers.
async fn register_load_resources(
    market: &Market,
    case: &MatpowerCase,
) -> anyhow::Result<Vec<BuyerPlan>> {
    let loaded: Vec<(u32, f64)> = case
        .network
        .buses
        .iter()
        .filter(|b| b.pd_mw > 0.0)
        .map(|b| (b.id, b.pd_mw))
        .collect();
    let buyers = buyer_plan(&loaded);
    for b in &buyers {
        let actor = market.actor(&b.member_id).await?;
        market
            .register_load_resource(
                &actor,
                LoadResource {
                    id: b.resource_id.clone(),
                    member_id: b.member_id.clone(),
                    name: format!("{} at bus {}", b.member_id, b.bus),
                    bus: b.bus,
                    controllable_share: b.controllable_share,
                    peak_mw: b.base_mw * 1.1,
                },
            )
            .await?;
    }
    Ok(buyers)
}

fn new_member(id: &str, name: &str, kind: MemberKind) -> NewMember {
    NewMember {
        id: id.into(),
        name: name.into(),
        kind,
        registration_number: None,
        contact_email: Some(format!("trading@{id}.example")),
    }
}

/// Technology guessed from the marginal cost (cheap: coal, dear: gas), with
/// that technology's typical dynamics where the case gives none.
fn unit_from_case(k: usize, owner: &str, g: &CaseGenerator) -> GeneratingUnit {
    let mc = g.cost.marginal_cost_at((g.pmin_mw + g.pmax_mw) / 2.0);
    let (technology, ramp_share_per_min, min_up_down_h, startup) = if mc < 20.0 {
        (Technology::Coal, 0.015, 8.0, 30_000.0)
    } else {
        (Technology::Gas, 0.05, 2.0, 10_000.0)
    };
    let ramp = g
        .ramp_agc
        .filter(|r| *r > 0.0)
        .unwrap_or(g.pmax_mw * ramp_share_per_min);
    GeneratingUnit {
        id: format!("pjm5-g{}", k + 1),
        member_id: owner.into(),
        name: format!("PJM5 unit {} (bus {})", k + 1, g.bus),
        technology,
        bus: g.bus,
        pmin_mw: g.pmin_mw,
        pmax_mw: g.pmax_mw,
        ramp_up_mw_per_min: round2(ramp),
        ramp_down_mw_per_min: round2(ramp),
        min_up_time_h: min_up_down_h,
        min_down_time_h: min_up_down_h,
        startup_cost: startup,
        must_run: false,
        emergency_min_mw: Some(g.pmin_mw),
        heat_supply_flow_t_per_h: None,
        expected_grid_connection: None,
    }
}

/// Retailers take the first two loaded buses whole; the large consumer and
/// the aggregator share the rest (40 % / 60 %).
fn buyer_plan(loaded: &[(u32, f64)]) -> Vec<BuyerPlan> {
    let mut out = Vec::new();
    for (k, (bus, pd)) in loaded.iter().enumerate() {
        match k {
            0 | 1 => out.push(BuyerPlan {
                member_id: if k == 0 { "retail-east" } else { "retail-west" }.into(),
                resource_id: format!("load-bus{bus}-{}", if k == 0 { "east" } else { "west" }),
                bus: *bus,
                base_mw: *pd,
                controllable_share: 0.05,
                tiers: vec![],
            }),
            _ => {
                out.push(BuyerPlan {
                    member_id: "steelworks".into(),
                    resource_id: format!("load-bus{bus}-steel"),
                    bus: *bus,
                    base_mw: pd * 0.4,
                    controllable_share: 0.2,
                    tiers: vec![(0.8, 1200.0), (0.2, 450.0)],
                });
                out.push(BuyerPlan {
                    member_id: "aggregator".into(),
                    resource_id: format!("load-bus{bus}-vpp"),
                    bus: *bus,
                    base_mw: pd * 0.6,
                    controllable_share: 0.3,
                    tiers: vec![(0.7, 1500.0), (0.2, 500.0), (0.1, 300.0)],
                });
            }
        }
    }
    out
}
