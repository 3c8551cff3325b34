"""The clock process: APScheduler firing Scale's periodic work."""
