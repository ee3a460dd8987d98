from netsift.cli import main

main()
