"""The HTTP edge: routes call the intake, the service and the repositories; errors are
mapped to statuses once (:mod:`castsight.station.api.errors`)."""
