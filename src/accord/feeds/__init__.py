"""The air picture's live sources, as the center's feed user reads them: BaseStation text from
an ADS-B receiver (:mod:`accord.feeds.sbs`), EUROCONTROL ASTERIX from a radar data processor
(:mod:`accord.feeds.asterix`) and the CSV format replayed in time. Each decoder turns bytes
into :class:`~accord.feeds.sighting.Sighting` values; the feed process (:mod:`accord.feeds.run`)
joins them per aircraft and posts batches to ``/v1/tracks``."""
