"""Response shapes of the API, one module per area (requests are the domain's models or live in the
route modules).

Each shape names its fields and is built explicitly from the domain's records (`common.from_row`
reads only the columns a shape names), so that a column added to a table stays out of the API until
a shape names it.
"""
