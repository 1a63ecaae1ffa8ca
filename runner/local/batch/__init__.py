"""The Batch data plane of the local target: routes, handlers, state, scheduler, errors."""
