"""The local target: an emulator of ARM, ACI and Batch, Azurite, container and node runtimes.

``runner local up`` starts it in the background through its client,
``runner.backends.local_target`` (nothing else outside this package imports it, and it
imports nothing of runner); ``runner local status --output json`` prints what a client
needs. The Azure SDKs talk to it unchanged but for the endpoint, a token credential and the
target's own CA bundle::

    status = local_target.ensure_up()
    endpoint = status["arm"]["endpoint"]
    aci = ContainerInstanceManagementClient(
        credential,  # any token credential; a JWT must come from status["identity"]
        status["arm"]["subscription"],
        base_url=endpoint,
        credential_scopes=[f"{endpoint}/.default"],
        connection_verify=status["ca_bundle"],
    )

Where it differs from Azure on purpose is listed in ``DEVIATIONS.md``.
"""
