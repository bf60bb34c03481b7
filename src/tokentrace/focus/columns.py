"""The FOCUS Cost and Usage columns tokentrace writes, per FOCUS version, in the spec's order.

Only the versions whose column sets tokentrace implements exactly are offered: ``1.3`` (the
newest ratified release whose Cost and Usage column list tokentrace ships; the default) and
``1.0`` (the version the FinOps Foundation's ``focus-validator`` 1.0.0 on PyPI checks). Columns
are listed alphabetically, as the specification's column chapter lists them; custom columns
(``x_`` prefix) come after all FOCUS columns, as the naming rules require.
"""

from __future__ import annotations

from typing import Dict, Tuple

_V1_0: Tuple[str, ...] = (
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
)

#: Added in 1.1 (CapacityReservation*, CommitmentDiscountQuantity/Unit, ServiceSubcategory,
#: SkuMeter, SkuPriceDetails), 1.2 (BillingAccountType, InvoiceId, PricingCurrency*,
#: SubAccountType) and 1.3 (ServiceProviderName, HostProviderName, Allocated*, ContractApplied).
_ADDED_BY_1_3: Tuple[str, ...] = (
    "AllocatedMethodDetails",
    "AllocatedMethodId",
    "AllocatedResourceId",
    "AllocatedResourceName",
    "AllocatedTags",
    "BillingAccountType",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountUnit",
    "ContractApplied",
    "HostProviderName",
    "InvoiceId",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "ServiceProviderName",
    "ServiceSubcategory",
    "SkuMeter",
    "SkuPriceDetails",
    "SubAccountType",
)

COLUMNS: Dict[str, Tuple[str, ...]] = {
    "1.0": _V1_0,
    "1.3": tuple(sorted(_V1_0 + _ADDED_BY_1_3)),
}

#: The version written when none is asked for.
DEFAULT_VERSION = "1.3"
VERSIONS: Tuple[str, ...] = tuple(COLUMNS)

#: tokentrace's own columns, after the FOCUS ones.
CUSTOM_COLUMNS: Tuple[str, ...] = (
    "x_DataSource",
    "x_CostStatus",
    "x_UsageSource",
    "x_ReasoningTokens",
    "x_Calls",
    "x_RequestedModels",
    "x_Rerouted",
    "x_ServiceTier",
)

#: Columns holding numbers (the rest are strings, timestamps or JSON text).
DECIMAL_COLUMNS = frozenset(
    (
        "BilledCost",
        "ConsumedQuantity",
        "ContractedCost",
        "ContractedUnitPrice",
        "EffectiveCost",
        "ListCost",
        "ListUnitPrice",
        "PricingQuantity",
        "CommitmentDiscountQuantity",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
    )
)
INTEGER_COLUMNS = frozenset(("x_ReasoningTokens", "x_Calls"))
DATETIME_COLUMNS = frozenset(("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"))


def columns_for(version: str) -> Tuple[str, ...]:
    """All columns of ``version`` in file order; ``ValueError`` naming the versions on offer."""
    try:
        return COLUMNS[version] + CUSTOM_COLUMNS
    except KeyError:
        raise ValueError(f"FOCUS version {version!r} is not supported; choose one of {', '.join(VERSIONS)}") from None
