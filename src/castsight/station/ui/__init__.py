"""The review UI: server-rendered pages (Jinja2) with a little JavaScript, served by the
station itself; the pages go through :class:`~castsight.station.reviews.ReviewService`
and :class:`~castsight.station.accounts.AccountService`, never the store."""
