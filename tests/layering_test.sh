#!/bin/sh
# Data flows one way: config -> templates -> render -> write + diff -> hooks. The lower layers
# own their settings structs and never include app/ (docs/ARCHITECTURE.md, "Layers").
# Usage: tests/layering_test.sh SOURCE_DIR
cd "$1" || exit 2
bad=$(grep -rn --include='*.cpp' --include='*.hpp' '#include "app/' renderer functions hooks net sys)
if [ -n "$bad" ]; then
  echo "a lower layer includes app/:"
  echo "$bad"
  exit 1
fi
echo "no lower layer includes app/"
