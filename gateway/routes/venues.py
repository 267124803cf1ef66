"""Venues: answered by the venues service over RPC."""


def routes(gateway):
    return []
