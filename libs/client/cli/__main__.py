from libs.client.cli import main

main()
