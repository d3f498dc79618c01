import os
import sys

import seamless.config
from seamless.transformer import direct

LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "executions.log")


@direct
def add(a, b, log):
    import os  # the code runs wherever the transformation runs
    with open(log, "a") as f:  # grows only when the code really runs
        f.write(f"add({a}, {b}) ran in process {os.getpid()}\n")
    return a + b


if __name__ == "__main__":  # workers of 'execution: spawn' import this file again
    seamless.config.init()  # starts or reuses the servers of ./seamless.yaml
    if len(sys.argv) > 1:
        seamless.config.set_stage(sys.argv[1])  # a stage has storage of its own
    print(add(2, 3, LOG))
    seamless.close()
