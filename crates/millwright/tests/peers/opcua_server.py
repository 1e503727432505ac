"""A small plant's PLC as an OPC UA server (Python asyncua), for Millwright's connector tests.

    python3 opcua_server.py PORT

Serves opc.tcp://127.0.0.1:PORT/ with security None. Press7 has Temperature (Double, +0.5 every
50 ms from 20.0), Strokes (Int32, +1 every 50 ms), Running (Boolean, toggles every 10 changes) and
Label (String). Values restart where they stopped when the server is restarted with the same state file
(PORT.state beside the script's working directory), so a test can tell the series continued.
Prints "ready" once it listens.
"""

import asyncio
import os
import sys

from asyncua import Server, ua


async def main(port: int) -> None:
    state = f"opcua-{port}.state"
    start = int(open(state).read()) if os.path.exists(state) else 0
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    ns = await server.register_namespace("urn:millwright:test-plc")
    press = await server.nodes.objects.add_object(f"ns={ns};s=Press7", "Press7")
    temperature = await press.add_variable(f"ns={ns};s=Press7.Temperature", "Temperature", 20.0)
    strokes = await press.add_variable(
        f"ns={ns};s=Press7.Strokes", "Strokes", ua.Variant(0, ua.VariantType.Int32)
    )
    running = await press.add_variable(f"ns={ns};s=Press7.Running", "Running", True)
    await press.add_variable(f"ns={ns};s=Press7.Label", "Label", "press seven")
    async with server:
        print("ready", flush=True)
        tick = start
        while True:
            tick += 1
            await temperature.write_value(20.0 + 0.5 * tick)
            await strokes.write_value(ua.Variant(tick, ua.VariantType.Int32))
            if tick % 10 == 0:
                await running.write_value(tick % 20 == 0)
            with open(state, "w") as f:
                f.write(str(tick))
            await asyncio.sleep(0.05)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
