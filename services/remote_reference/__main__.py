from services.remote_reference.app import main

if __name__ == "__main__":
    main()
