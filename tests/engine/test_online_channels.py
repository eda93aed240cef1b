"""Which channels apply a store's online threshold.

The channel list is written out here by hand (not imported from the ledger), so a channel
dropped from (or added to) the ledger's online set is caught: marketplace and social are
online storefronts like web and app; walk-in POS and wholesale are not.
"""

from __future__ import annotations

from engine.ledger import Ledger
from engine.order import Channel

ONLINE = {"web", "app", "marketplace", "social"}


def test_every_online_channel_hides_store_stock_below_the_threshold_and_no_other_does():
    lg = Ledger(["S1", "DC1"], ["A"])
    lg.configure_locations(online_threshold=[4, 4], is_store=[True, False])
    lg.set_stock("S1", "A", 3)  # below the store's threshold of 4
    lg.set_stock("DC1", "A", 3)  # same units, but a DC: no threshold
    for ch in Channel:
        expected = 0 if ch.value in ONLINE else 3
        assert lg.ats_for("S1", "A", ch.value) == expected, ch
        assert int(lg.ats(ch.value, [0])[0, 0]) == expected, ch
        assert lg.ats_for("DC1", "A", ch.value) == 3, ch
    assert {ch.value for ch in Channel} - ONLINE == {"pos", "wholesale"}
