//! A consumer of the pricing model (one user i): its hourly non-controllable
//! load, controllable load c_t, rooftop PV and optional battery and electric
//! vehicle. Data and validation only; the consumer's optimisation lives in
//! `lower`.

use crate::{HOURS, PricingError};

/// A home battery (defaults: 6 kW, 13.5 kWh usable, 95 % one-way efficiency).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Battery {
    pub power_kw: f64,
    pub capacity_kwh: f64,
    pub min_soc_kwh: f64,
    pub efficiency: f64,
}

impl Default for Battery {
    fn default() -> Self {
        Self {
            power_kw: 6.0,
            capacity_kwh: 13.5,
            min_soc_kwh: 0.0,
            efficiency: 0.95,
        }
    }
}

/// An electric vehicle that can charge and discharge (V2G) while at home.
#[derive(Debug, Clone, PartialEq)]
pub struct ElectricVehicle {
    pub capacity_kwh: f64,
    pub power_kw: f64,
    /// Lower state-of-charge limit as a fraction of capacity (0.4 in the source).
    pub min_soc_fraction: f64,
    pub efficiency: f64,
    /// Whether the vehicle is plugged in during hour h.
    pub at_home: [bool; HOURS],
    /// Energy the trip takes out of the battery during hour h (kWh).
    pub driving_kwh: [f64; HOURS],
}

impl Default for ElectricVehicle {
    /// 17 kWh, 3.4 kW, SoC ≥ 40 %; away 07:00–18:00 using 5.1 kWh (30 % of
    /// capacity) spread evenly over the 11 hours away.
    fn default() -> Self {
        let mut at_home = [true; HOURS];
        let mut driving_kwh = [0.0; HOURS];
        for h in 7..18 {
            at_home[h] = false;
            driving_kwh[h] = 5.1 / 11.0;
        }
        Self {
            capacity_kwh: 17.0,
            power_kw: 3.4,
            min_soc_fraction: 0.4,
            efficiency: 0.95,
            at_home,
            driving_kwh,
        }
    }
}

/// One user of the pricing model.
#[derive(Debug, Clone, PartialEq)]
pub struct Consumer {
    pub id: usize,
    /// Non-controllable consumption per hour (kWh).
    pub base_kwh: [f64; HOURS],
    /// Preferred controllable consumption c_t per hour (kWh).
    pub controllable_kwh: [f64; HOURS],
    /// Rooftop PV generation per hour (kWh), zero without PV.
    pub pv_kwh: [f64; HOURS],
    pub battery: Option<Battery>,
    pub ev: Option<ElectricVehicle>,
}

impl Consumer {
    /// A consumer with only base and controllable load.
    pub fn device_free(id: usize, base_kwh: [f64; HOURS], controllable_kwh: [f64; HOURS]) -> Self {
        Self {
            id,
            base_kwh,
            controllable_kwh,
            pv_kwh: [0.0; HOURS],
            battery: None,
            ev: None,
        }
    }

    /// True when the exact separable solver applies (no PV, battery or EV).
    pub fn is_device_free(&self) -> bool {
        self.battery.is_none() && self.ev.is_none() && self.pv_kwh.iter().all(|&v| v == 0.0)
    }

    /// C_i = Σ_t c_t (kWh).
    pub fn controllable_total_kwh(&self) -> f64 {
        self.controllable_kwh.iter().sum()
    }

    /// Daily consumption without devices (base + controllable), kWh.
    pub fn daily_consumption_kwh(&self) -> f64 {
        self.base_kwh.iter().sum::<f64>() + self.controllable_total_kwh()
    }

    /// Check energies are finite and non-negative and devices are sane.
    pub fn validate(&self) -> Result<(), PricingError> {
        for (field, values) in [
            ("base_kwh", &self.base_kwh),
            ("controllable_kwh", &self.controllable_kwh),
            ("pv_kwh", &self.pv_kwh),
        ] {
            if let Some(hour) = values.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(PricingError::NegativeOrNonFiniteEnergy {
                    consumer: self.id,
                    field,
                    hour,
                    value: values[hour],
                });
            }
        }
        if let Some(b) = &self.battery {
            let ok = b.power_kw > 0.0
                && b.capacity_kwh > 0.0
                && (0.0..b.capacity_kwh).contains(&b.min_soc_kwh)
                && b.efficiency > 0.0
                && b.efficiency <= 1.0;
            if !ok {
                return Err(PricingError::BadDevice {
                    consumer: self.id,
                    device: "battery",
                    rule: "power > 0, capacity > 0, 0 ≤ min SoC < capacity, 0 < efficiency ≤ 1"
                        .into(),
                });
            }
        }
        if let Some(ev) = &self.ev {
            let usable = ev.capacity_kwh * (1.0 - ev.min_soc_fraction);
            let ok = ev.power_kw > 0.0
                && ev.capacity_kwh > 0.0
                && (0.0..1.0).contains(&ev.min_soc_fraction)
                && ev.efficiency > 0.0
                && ev.efficiency <= 1.0
                && ev.driving_kwh.iter().all(|&d| d >= 0.0)
                && ev.driving_kwh.iter().sum::<f64>() <= usable;
            if !ok {
                return Err(PricingError::BadDevice {
                    consumer: self.id,
                    device: "ev",
                    rule: "power > 0, capacity > 0, 0 ≤ min SoC < 1, 0 < efficiency ≤ 1, daily driving ≤ usable energy"
                        .into(),
                });
            }
        }
        Ok(())
    }
}
