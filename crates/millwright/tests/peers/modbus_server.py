"""A pump's Modbus TCP device (pymodbus 3.16.1), for Millwright's connector tests.

    python3 modbus_server.py PORT

Holding registers 0..10, input register 0, coils 0..4, discrete inputs 0..2; every other address answers
IllegalDataAddress. pymodbus blocks start at 1 for address 0.
"""
import logging, struct, sys
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import StartTcpServer

def words(fmt, value):
    return list(struct.unpack(">HH", struct.pack(">" + fmt, value)))

holding = ([1234, 65531] + words("f", 3.5) + words("f", -2.25)[::-1]
           + words("I", 70000) + words("i", -100000)[::-1])
device = ModbusDeviceContext(
    hr=ModbusSequentialDataBlock(1, holding),
    ir=ModbusSequentialDataBlock(1, [500]),
    co=ModbusSequentialDataBlock(1, [True, False, True, False]),
    di=ModbusSequentialDataBlock(1, [False, True]),
)
logging.disable(logging.CRITICAL)
StartTcpServer(ModbusServerContext(devices=device), address=("127.0.0.1", int(sys.argv[1])))
