from hx.cli import main

main()
