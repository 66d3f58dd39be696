"""NAESB ESPI (Green Button) code tables this engine understands."""

from __future__ import annotations

# ReadingType.uom (IEC 61968-9 UnitSymbolKind) -> a unit spelling `units.normalise` knows.
UOM_UNITS = {72: "Wh", 169: "therm", 42: "m3", 119: "ft3", 134: "L"}
UOM_NAMES = {5: "A", 29: "V", 38: "W", 61: "VA", 63: "VAr", 71: "VAh", 73: "VArh", 132: "BTU"}

# UsagePoint ServiceCategory.kind
SERVICE_KINDS = {0: "electricity", 1: "gas", 2: "water", 4: "heat"}
# ReadingType.commodity, used when a UsagePoint does not say its kind
COMMODITY_SERVICES = {1: "electricity", 2: "electricity", 7: "gas", 9: "water"}

# ReadingType.flowDirection; anything else reads as consumption (forward)
FLOW_SUFFIXES = {19: "export", 4: "net"}

# ReadingType.accumulationBehaviour values that are register totals, not interval amounts
CUMULATIVE = {1: "bulkQuantity", 2: "continuousCumulative", 3: "cumulative"}

# ReadingQuality.quality (QualityOfReading)
QUALITY_NAMES = {
    0: "valid",
    7: "manually_edited",
    8: "estimated_reference_day",
    9: "estimated_linear_interpolation",
    10: "questionable",
    11: "derived",
    12: "projected",
    13: "mixed",
    14: "raw",
    15: "normalized_for_weather",
    16: "other",
    17: "validated",
    18: "verified",
    19: "revenue_quality",
}

# IntervalReading.cost is in 1/100,000 of the ReadingType currency.
COST_EXPONENT = -5
