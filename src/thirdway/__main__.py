from thirdway.cli import main

main()
