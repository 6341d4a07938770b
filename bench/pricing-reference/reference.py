#!/usr/bin/env python3
"""Independent reference for Voltex's time-of-use pricing (docs/pricing.md).

Solves the instance `voltex pricing experiment reference` writes
(reference_instance.json: one seller, device-free users, 365 price
scenarios) the way the source paper describes its method: a numerical solver
per consumer (scipy's SLSQP, one call per user and candidate, no grouping of
users, no closed form) inside a plain real-coded elitist GA for the seller.
It shares no code with Voltex: only the model of docs/pricing.md and the
instance's numbers.

Prints one line and writes reference_python.json next to the instance:
the prices found, their objective, the number of fitness evaluations and the
wall time; and, as a check of the model, the objective this script computes
for the prices Voltex found (reference_voltex.json, when present).

Usage: python3 reference.py DIR   (DIR holds reference_instance.json)
"""

import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize


class Instance:
    def __init__(self, data):
        self.periods = data["period_of_hour"]
        self.base = np.array([u["base_kwh"] for u in data["users"]], dtype=float)
        self.c = np.array([u["controllable_kwh"] for u in data["users"]], dtype=float)
        self.spot = np.array(data["scenarios_spot_per_kwh"], dtype=float)
        self.lower = data["lower"]
        self.rules = data["rules"]
        self.ga = data["ga"]
        self.seed = data["seed"]

    def hourly(self, prices):
        return np.array([prices[p] for p in self.periods], dtype=float)


def consumer_answer(p, c, omega, limit):
    """argmin_x p.x + omega * sum((x - c)^2) / C  s.t. sum x = C,
    max(0, c - limit C) <= x <= c + limit C (the base load's cost is fixed)."""
    total = c.sum()
    if total <= 0.0:
        return c.copy()
    lo = np.maximum(0.0, c - limit * total)
    hi = c + limit * total
    result = minimize(
        lambda x: p @ x + omega * np.sum((x - c) ** 2) / total,
        x0=c,
        jac=lambda x: p + 2.0 * omega * (x - c) / total,
        bounds=list(zip(lo, hi)),
        constraints=[{
            "type": "eq",
            "fun": lambda x: x.sum() - total,
            "jac": lambda x: np.ones_like(x),
        }],
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 500},
    )
    return result.x


def cvar(losses, alpha):
    """Rockafellar-Uryasev CVaR of equally likely losses, at the ceil(alpha S)-th smallest."""
    s = np.sort(losses)
    eta = s[min(max(math.ceil(alpha * len(s)), 1), len(s)) - 1]
    return eta + np.maximum(s - eta, 0.0).sum() / ((1.0 - alpha) * len(s))


def outcome(inst, prices):
    """The seller's objective and penalised fitness for its prices (dict)."""
    p = inst.hourly(prices)
    lower, rules = inst.lower, inst.rules
    purchases = inst.base.sum(axis=0).copy()
    for c in inst.c:
        purchases += consumer_answer(p, c, lower["comfort_coefficient"], lower["adjustment_limit"])
    fixed = ((p - rules["network_tariff_per_kwh"]) * purchases).sum()
    profits = fixed - inst.spot @ purchases
    expected = profits.mean()
    cvar_loss = cvar(-profits, rules["cvar_confidence"])
    objective = expected - rules["risk_aversion"] * cvar_loss
    bought = purchases.sum()
    average = (p * purchases).sum() / bought if bought > 0 else 0.0
    excess = max(0.0, average - rules["average_price_cap_per_kwh"])
    return {
        "objective": objective,
        "expected_profit": expected,
        "cvar_loss": cvar_loss,
        "average_price_per_kwh": average,
        "purchases_kwh": bought,
        "penalised_fitness": objective - rules["average_price_penalty"] * excess * bought,
        "average_price_excess": excess,
    }


def repair_box(inst, genes):
    lo, hi = inst.rules["price_floor_per_kwh"], inst.rules["price_cap_per_kwh"]
    v, f, pk = sorted(min(max(g, lo), hi) for g in genes)
    return {"valley": v, "flat": f, "peak": pk}


def genes_of(prices):
    return [prices["valley"], prices["flat"], prices["peak"]]


def sbx(a, b, lo, hi, eta, rng):
    if abs(a - b) < 1e-14:
        return a, b
    u = rng.random()
    beta = (2 * u) ** (1 / (eta + 1)) if u <= 0.5 else (1 / (2 * (1 - u))) ** (1 / (eta + 1))
    c1 = 0.5 * ((1 + beta) * a + (1 - beta) * b)
    c2 = 0.5 * ((1 - beta) * a + (1 + beta) * b)
    return min(max(c1, lo), hi), min(max(c2, lo), hi)


def mutate(x, lo, hi, eta, rng):
    span = hi - lo
    u = rng.random()
    d1, d2, power = (x - lo) / span, (hi - x) / span, 1 / (eta + 1)
    if u < 0.5:
        dq = (2 * u + (1 - 2 * u) * (1 - d1) ** (eta + 1)) ** power - 1
    else:
        dq = 1 - (2 * (1 - u) + 2 * (u - 0.5) * (1 - d2) ** (eta + 1)) ** power
    return min(max(x + dq * span, lo), hi)


def genetic_algorithm(inst):
    """Elitist real-coded GA: binary tournament, SBX, polynomial mutation,
    stop after `stall_generations` without improvement."""
    ga, rules = inst.ga, inst.rules
    lo, hi = rules["price_floor_per_kwh"], rules["price_cap_per_kwh"]
    rng = random.Random(inst.seed)
    evaluations = 0

    def fitness(prices):
        nonlocal evaluations
        evaluations += 1
        return outcome(inst, prices)["penalised_fitness"]

    population = [repair_box(inst, [rng.uniform(lo, hi) for _ in range(3)])
                  for _ in range(ga["population"])]
    scores = [fitness(p) for p in population]
    best, stall = max(scores), 0
    for _ in range(ga["generations"]):
        order = sorted(range(len(population)), key=lambda i: -scores[i])
        nxt = [population[i] for i in order[:ga["elite"]]]
        nxt_scores = [scores[i] for i in order[:ga["elite"]]]

        def tournament():
            a, b = rng.randrange(len(population)), rng.randrange(len(population))
            return a if scores[a] >= scores[b] else b

        while len(nxt) < ga["population"]:
            pa, pb = genes_of(population[tournament()]), genes_of(population[tournament()])
            ca, cb = list(pa), list(pb)
            if rng.random() < ga["crossover_probability"]:
                for g in range(3):
                    ca[g], cb[g] = sbx(pa[g], pb[g], lo, hi, ga["crossover_eta"], rng)
            for child in (ca, cb):
                for g in range(3):
                    if rng.random() < ga["mutation_probability"]:
                        child[g] = mutate(child[g], lo, hi, ga["mutation_eta"], rng)
                if len(nxt) < ga["population"]:
                    p = repair_box(inst, child)
                    nxt.append(p)
                    nxt_scores.append(fitness(p))
        population, scores = nxt, nxt_scores
        if max(scores) > best + 1e-12 * max(abs(best), 1.0):
            best, stall = max(scores), 0
        else:
            stall += 1
            if ga["stall_generations"] and stall >= ga["stall_generations"]:
                break
    i = max(range(len(population)), key=lambda i: scores[i])
    return population[i], evaluations


def repair_average_price(inst, prices):
    """Pull the prices towards the floor until the average-price cap holds
    (30 bisection steps on the share kept), as docs/pricing.md describes."""
    if outcome(inst, prices)["average_price_excess"] <= 0:
        return prices
    floor = inst.rules["price_floor_per_kwh"]

    def at(a):
        return {k: floor + a * (v - floor) for k, v in prices.items()}

    feasible, infeasible = 0.0, 1.0
    for _ in range(30):
        mid = 0.5 * (feasible + infeasible)
        if outcome(inst, at(mid))["average_price_excess"] <= 0:
            feasible = mid
        else:
            infeasible = mid
    return at(feasible)


def main():
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    inst = Instance(json.loads((folder / "reference_instance.json").read_text()))
    start = time.perf_counter()
    found, evaluations = genetic_algorithm(inst)
    found = repair_average_price(inst, found)
    seconds = time.perf_counter() - start
    result = {
        "users": len(inst.c),
        "prices": found,
        "outcome": outcome(inst, found),
        "evaluations": evaluations,
        "seconds": seconds,
    }
    voltex_path = folder / "reference_voltex.json"
    if voltex_path.exists():
        voltex = json.loads(voltex_path.read_text())
        mine = outcome(inst, voltex["prices"])
        result["voltex_prices_here"] = mine
        result["objective_difference_at_voltex_prices"] = (
            mine["objective"] - voltex["outcome"]["objective"])
    (folder / "reference_python.json").write_text(json.dumps(result, indent=2))
    print(
        "reference python: users={} prices peak/flat/valley {:.4f}/{:.4f}/{:.4f} "
        "objective={:.2f} evaluations={} seconds={:.1f}".format(
            result["users"], found["peak"], found["flat"], found["valley"],
            result["outcome"]["objective"], evaluations, seconds))


if __name__ == "__main__":
    main()
