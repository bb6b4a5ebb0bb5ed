"""The air picture's live sources, as the center's feed user reads them: BaseStation text from
an ADS-B receiver (:mod:`accord.feeds.sbs`), EUROCONTROL ASTERIX from a radar data processor
(:mod:`accord.feeds.asterix`) and the CSV format replayed in time. Each decoder turns bytes
into :class:`~accord.feeds.sighting.Sighting` values, and :mod:`accord.feeds.join` joins them
per aircraft. Pure: the feed process that reads the sockets and posts batches to
``/v1/tracks`` is the edge :mod:`accord.feed_process`."""
