"""Tools for trainers: write the shopper messages they labelled into the training data.

`trainer.examples` holds the logic (pure functions, no web framework, no Redis);
`trainer.cli` is its command line (`make add-example`, `make add-anger`).
"""
