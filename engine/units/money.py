"""ISO 4217 currencies: active alphabetic codes, their minor-unit exponents, numeric codes."""

from __future__ import annotations

_ACTIVE = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB
TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD
XCG XOF XPF YER ZAR ZMW ZWG ZWL
"""
CURRENCIES = frozenset(_ACTIVE.split())

_EXPONENT_EXCEPTIONS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}

# Green Button's ReadingType.currency is the numeric code; these are the ones utilities use.
_NUMERIC = {
    36: "AUD",
    124: "CAD",
    156: "CNY",
    203: "CZK",
    208: "DKK",
    344: "HKD",
    348: "HUF",
    356: "INR",
    392: "JPY",
    410: "KRW",
    484: "MXN",
    554: "NZD",
    578: "NOK",
    702: "SGD",
    710: "ZAR",
    752: "SEK",
    756: "CHF",
    826: "GBP",
    840: "USD",
    949: "TRY",
    978: "EUR",
    985: "PLN",
    986: "BRL",
}


def minor_exponent(code: str) -> int:
    """Digits after the decimal point of the currency's minor unit (2 for EUR, 0 for JPY)."""
    return _EXPONENT_EXCEPTIONS.get(code, 2)


def from_numeric(number: int) -> str | None:
    """The alphabetic code for an ISO 4217 numeric code (840 → USD), if known."""
    return _NUMERIC.get(number)


def major_units(amount: float, code: str) -> float:
    """Minor to major units as conditions and messages read money: ``5120.0 EUR`` → ``51.2``."""
    return float(amount / 10 ** minor_exponent(code))
