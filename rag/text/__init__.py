"""The text layer: what retrieval and answering both read text with, importing neither.

* ``normalize``  the one normaliser (NFKC and the forms built on it)
* ``sentences``  the one sentence splitter (offsets kept)
* ``tokenize``   jieba tokenisation for BM25, with an archive's own words; how much of a text
                 reads as dictionary words (the scan reader's check for columns read across)
* ``lexicon``    collecting an archive's own words (place and organisation names, quoted terms)
* ``question``   question analysis: what is asked (number + unit, date, person, place, list),
                 its focus, predicate, places and ordinals
* ``spans``      the span of a sentence that answers a question; people by role
* ``terms``      content-word weighting and coverage
* ``followup``   follow-up questions made standalone by rules
"""
