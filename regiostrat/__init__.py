"""RegioStrat-Assistent core: domain types, settings, embedders and the index."""
