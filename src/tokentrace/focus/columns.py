"""The FOCUS Cost and Usage columns tokentrace writes, per FOCUS version, in the spec's order.

Only the versions whose column sets tokentrace implements exactly are offered: ``1.4`` (ratified
on 2026-06-04, the newest release; the default), ``1.3`` (ratified 2025-12-04, for pipelines not
yet on 1.4) and ``1.0`` (the version the FinOps Foundation's ``focus-validator`` 1.0.0 on PyPI
checks). 1.5 is a working draft (its AI properties of ``SkuPriceDetails`` are used already; its
columns, such as ``PrincipalId``, are not). 1.3 → 1.4 in the Cost and Usage dataset, per the
specification's version migration guidance: ``ProviderName`` and ``PublisherName`` (deprecated in
1.3) are removed; ``CommitmentProgramEligibilityDetails`` and ``InvoiceDetailId`` are added (both
null here: no commitment program is known to tokentrace, and an estimate belongs to no invoice);
``ContractApplied`` changes its JSON format (null here, so nothing changes). Columns
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

_V1_3: Tuple[str, ...] = tuple(sorted(_V1_0 + _ADDED_BY_1_3))
_REMOVED_BY_1_4: Tuple[str, ...] = ("ProviderName", "PublisherName")
_ADDED_BY_1_4: Tuple[str, ...] = ("CommitmentProgramEligibilityDetails", "InvoiceDetailId")

COLUMNS: Dict[str, Tuple[str, ...]] = {
    "1.0": _V1_0,
    "1.3": _V1_3,
    "1.4": tuple(sorted(tuple(c for c in _V1_3 if c not in _REMOVED_BY_1_4) + _ADDED_BY_1_4)),
}

#: The version written when none is asked for: the newest ratified one.
DEFAULT_VERSION = "1.4"
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
