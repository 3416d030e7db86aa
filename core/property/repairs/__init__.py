"""报修与维护: owners' repair requests, the work orders that carry them out, SLA, ratings and return visits."""
