"""A Batch quickstart's flow on azure-batch 11.0.0 (msrest era, api-version 2021-06-01.14.0).

Run by ``test_sdk11_quickstart.py`` with the interpreter of a throwaway venv holding only
azure-batch 11.0.0, so nothing of this project is imported. Like the Azure Batch Python
quickstart, it makes a pool of Ubuntu nodes and a job, adds one task per input file (each
fetched as a resource file through its SAS URL and printed with ``cat``), waits for the
tasks, prints each one's ``stdout.txt``, then deletes the job and the pool.

Settings come from the environment, as the quickstart's config.py holds them:
``BATCH_ACCOUNT_NAME``, ``BATCH_ACCOUNT_KEY``, ``BATCH_ACCOUNT_URL``, ``INPUT_FILES`` (a JSON
list of ``[file name, SAS URL]``) and ``REQUESTS_CA_BUNDLE`` for the account's certificate.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import sys
import time

import azure.batch.models as batchmodels
from azure.batch import BatchServiceClient
from azure.batch.batch_auth import SharedKeyCredentials

BATCH_ACCOUNT_NAME = os.environ["BATCH_ACCOUNT_NAME"]
BATCH_ACCOUNT_KEY = os.environ["BATCH_ACCOUNT_KEY"]
BATCH_ACCOUNT_URL = os.environ["BATCH_ACCOUNT_URL"]
POOL_ID = os.environ.get("POOL_ID", "PythonQuickstartPool")
JOB_ID = os.environ.get("JOB_ID", "PythonQuickstartJob")
POOL_NODE_COUNT = 2
POOL_VM_SIZE = "STANDARD_DS1_V2"
STANDARD_OUT_FILE_NAME = "stdout.txt"


def print_batch_exception(batch_exception: batchmodels.BatchErrorException) -> None:
    print("-------------------------------------------")
    print("Exception encountered:")
    if (
        batch_exception.error
        and batch_exception.error.message
        and batch_exception.error.message.value
    ):
        print(batch_exception.error.message.value)
        if batch_exception.error.values:
            print()
            for mesg in batch_exception.error.values:
                print(f"{mesg.key}:\t{mesg.value}")
    print("-------------------------------------------")


def create_pool(batch_service_client: BatchServiceClient, pool_id: str) -> None:
    print(f"Creating pool [{pool_id}]...")
    new_pool = batchmodels.PoolAddParameter(
        id=pool_id,
        virtual_machine_configuration=batchmodels.VirtualMachineConfiguration(
            image_reference=batchmodels.ImageReference(
                publisher="canonical",
                offer="0001-com-ubuntu-server-focal",
                sku="20_04-lts",
                version="latest",
            ),
            node_agent_sku_id="batch.node.ubuntu 20.04",
        ),
        vm_size=POOL_VM_SIZE,
        target_dedicated_nodes=POOL_NODE_COUNT,
    )
    batch_service_client.pool.add(new_pool)


def create_job(batch_service_client: BatchServiceClient, job_id: str, pool_id: str) -> None:
    print(f"Creating job [{job_id}]...")
    job = batchmodels.JobAddParameter(
        id=job_id, pool_info=batchmodels.PoolInformation(pool_id=pool_id)
    )
    batch_service_client.job.add(job)


def add_tasks(
    batch_service_client: BatchServiceClient,
    job_id: str,
    resource_input_files: list[batchmodels.ResourceFile],
) -> None:
    print(f"Adding {len(resource_input_files)} tasks to job [{job_id}]...")
    tasks = []
    for idx, input_file in enumerate(resource_input_files):
        command = f'/bin/bash -c "cat {input_file.file_path}"'
        tasks.append(
            batchmodels.TaskAddParameter(
                id=f"Task{idx}", command_line=command, resource_files=[input_file]
            )
        )
    batch_service_client.task.add_collection(job_id, tasks)


def wait_for_tasks_to_complete(
    batch_service_client: BatchServiceClient, job_id: str, timeout: datetime.timedelta
) -> None:
    timeout_expiration = datetime.datetime.now() + timeout
    print(f"Monitoring all tasks for 'Completed' state, timeout in {timeout}...", end="")
    while datetime.datetime.now() < timeout_expiration:
        print(".", end="")
        sys.stdout.flush()
        tasks = batch_service_client.task.list(job_id)
        incomplete_tasks = [task for task in tasks if task.state != batchmodels.TaskState.completed]
        if not incomplete_tasks:
            print()
            return
        time.sleep(0.2)
    print()
    raise RuntimeError(
        "ERROR: Tasks did not reach 'Completed' state within timeout period of " + str(timeout)
    )


def _read_stream_as_string(stream: object, encoding: str) -> str:
    output = io.BytesIO()
    try:
        for data in stream:  # type: ignore[attr-defined]
            output.write(data)
        return output.getvalue().decode(encoding)
    finally:
        output.close()


def print_task_output(
    batch_service_client: BatchServiceClient, job_id: str, text_encoding: str = "utf-8"
) -> None:
    print("Printing task output...")
    tasks = batch_service_client.task.list(job_id)
    for task in tasks:
        node_id = batch_service_client.task.get(job_id, task.id).node_info.node_id
        print(f"Task: {task.id}")
        print(f"Node: {node_id}")
        stream = batch_service_client.file.get_from_task(job_id, task.id, STANDARD_OUT_FILE_NAME)
        file_text = _read_stream_as_string(stream, text_encoding)
        print("Standard output:")
        print(file_text)


def main() -> int:
    input_files = [
        batchmodels.ResourceFile(http_url=url, file_path=name)
        for name, url in json.loads(os.environ["INPUT_FILES"])
    ]
    credentials = SharedKeyCredentials(BATCH_ACCOUNT_NAME, BATCH_ACCOUNT_KEY)
    batch_client = BatchServiceClient(credentials, batch_url=BATCH_ACCOUNT_URL)
    try:
        create_pool(batch_client, POOL_ID)
        create_job(batch_client, JOB_ID, POOL_ID)
        add_tasks(batch_client, JOB_ID, input_files)
        wait_for_tasks_to_complete(batch_client, JOB_ID, datetime.timedelta(minutes=2))
        print(
            "  Success! All tasks reached the 'Completed' state within the specified "
            "timeout period."
        )
        print_task_output(batch_client, JOB_ID)
    except batchmodels.BatchErrorException as err:
        print_batch_exception(err)
        raise
    finally:
        print(f"Deleting job [{JOB_ID}]...")
        batch_client.job.delete(JOB_ID)
        print(f"Deleting pool [{POOL_ID}]...")
        batch_client.pool.delete(POOL_ID)
    return 0


if __name__ == "__main__":
    sys.exit(main())
