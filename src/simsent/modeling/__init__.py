"""The sentence model: an encoder (transformer or TextCNN) + pooling [+ dense layers] [+ normalisation].

``sentence_encoder`` holds :class:`SentenceEncoder` (encode, similarity, the chunked forward policy),
``pooling`` and ``dense`` its parts, ``st_format`` the sentence-transformers folder (read and write),
``encoders/`` the token encoders.
"""
