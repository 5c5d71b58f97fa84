"""Identifiers as their issuers and registries publish them, for the scrubber and the gate.

Values written elsewhere than in this project (each list says where), so that the tests
do not only meet the shapes of the project's own generator. Each one verifies: a test
card's Luhn key, an IBAN's ISO 7064 check digits.
"""

from __future__ import annotations

# Test card numbers the payment processors publish (Stripe's list): each network's
# lengths and the groupings printed on its cards (American Express 4-6-5, Diners 4-6-4,
# UnionPay's 19 digits 4-4-4-4-3), Cartes Bancaires' 4000 0025 0000 1001 among them.
PUBLISHED_TEST_CARDS = [
    "4242 4242 4242 4242", "4000 0566 5566 5556", "5555 5555 5555 4444",
    "2223 0031 2200 3222", "5200 8282 8282 8210", "5105 1051 0510 5100",
    "3782 822463 10005", "3714 496353 98431", "6011 1111 1111 1117",
    "6011 0009 9013 9424", "6011 9811 1111 1113", "3056 9300 0902 0004",
    "3622 720627 1667", "6555 9000 0060 4105", "3566 0020 2036 0505",
    "6200 0000 0000 0005", "6200 0000 0000 0047", "6205 5000 0000 0000 004",
    "4000 0025 0000 1001",
]  # fmt: skip

# Examples published with the registries: SWIFT's (MR, TN, RU, BI, DJ) and, for the
# countries that issue IBANs outside it, the examples the IBAN directories list.
PUBLISHED_IBANS = [
    "RU0304452522540817810538091310419", "BI4210000100010000332045181",
    "DJ2100010000000154000100186", "MR1300020001010000123456753",
    "TN5910006035183598478831", "SN08SN0100152000048500003035",
    "CI93CI0080111301134291200589", "ML03D00890170001002120000447",
    "BF42BF0840101300463574000390", "CM2110003001000500000605306",
    "MG4600005030010101914016056", "DZ580002100001113000000570",
    "MA64011519000001205000534921", "KM4600005000010010904400137",
    "TG53TG0090604310346500400070", "NE58NE0380100100130305000268",
    "GA2140021010032001890020126", "CG3930011000101013451300019",
    "TD8960002000010271091600153", "CF4220001000010120069700160",
]  # fmt: skip
