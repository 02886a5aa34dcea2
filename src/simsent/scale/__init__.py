"""Corpora of millions: encoding into resumable shards (here or on Ray workers) and indexes built from
them shard by shard. Ray is an extra (``simsent[ray]``), imported only by :mod:`.ray_encode`."""
