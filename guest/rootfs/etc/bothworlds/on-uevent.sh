#!/bin/sh
# Run by `uevent` with the event in the environment.
if [ "$SUBSYSTEM" = cpu ] && [ "$ACTION" = add ] && [ -w "/sys$DEVPATH/online" ]; then
  echo 1 > "/sys$DEVPATH/online"
fi
