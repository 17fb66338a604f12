module templet/goref

go 1.23
