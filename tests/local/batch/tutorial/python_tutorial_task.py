"""The Batch Python tutorial's task script, ported to the standard library.

The tutorial's script counts the top N words of its input file, writes them to
``<stem>_OUTPUT.txt`` and uploads that file to the output container with a write-only
container SAS token. The original used the legacy ``azure-storage`` package; this port
makes the same Put Blob call with ``urllib`` so it needs nothing installed on the node.
``--blobendpoint`` defaults to the account's Azure endpoint, as the original built it.
"""

import argparse
import collections
import os
import urllib.request

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--filepath", required=True, help="The path to the text file to process.")
    parser.add_argument("--numwords", type=int, required=True, help="The top N words to count.")
    parser.add_argument("--storageaccount", required=True)
    parser.add_argument("--storagecontainer", required=True)
    parser.add_argument("--sastoken", required=True)
    parser.add_argument("--blobendpoint")
    args = parser.parse_args()

    input_file = os.path.realpath(args.filepath)
    output_file = f"{os.path.splitext(args.filepath)[0]}_OUTPUT{os.path.splitext(args.filepath)[1]}"

    with open(input_file) as f:
        words = f.read().split()
    top_n_words = collections.Counter(words).most_common(args.numwords)

    with open(output_file, "w") as text_file:
        for word, count in top_n_words:
            print(f"{word}: {count}", file=text_file)

    endpoint = args.blobendpoint or f"https://{args.storageaccount}.blob.core.windows.net"
    url = "{}/{}/{}?{}".format(
        endpoint.rstrip("/"),
        args.storagecontainer,
        os.path.basename(output_file),
        args.sastoken.lstrip("?"),
    )
    with open(output_file, "rb") as data:
        body = data.read()
    request = urllib.request.Request(
        url,
        data=body,
        method="PUT",
        headers={
            "x-ms-blob-type": "BlockBlob",
            "x-ms-version": "2021-08-06",
            "Content-Length": str(len(body)),
        },
    )
    urllib.request.urlopen(request).close()
