from hx._entry import main

main()
